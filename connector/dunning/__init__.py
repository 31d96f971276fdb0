"""Dunning: the per-client ladder, holds and decisions (pure); legal rule packs arrive with issue #6."""
