"""Pure numerical fitting for in-vitro assays and microdialysis (imports nothing from behavscore)."""
