"""Bank payment feeds: camt.052/053/054 and Nets OCR giro (the references they carry: connector.references)."""
