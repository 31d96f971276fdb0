"""Collection: inkasso providers behind one interface; the approval workflow lives in the pipeline."""
