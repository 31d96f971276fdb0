"""Acting on decisions, outside the pure core: sending ladder steps, resolving sends a stopped run left,
proposing and pushing collection cases, refreshing the business register. Nothing here decides."""
