"""Pure analysis of captured bytes: main text, citations, quotations, change judgement, diffs."""
