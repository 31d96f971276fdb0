"""What the accountant reads: decision tables, case views and the aging report."""
