"""Statistics: extraction, effect sizes, meta-analysis, synthesis, forest plots (no retrieval, no claims)."""
