"""Bank payment feeds: camt.052/053/054 and Nets OCR giro; structured references (KID, RF, FIK)."""
