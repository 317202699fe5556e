"""The classify stage: embed papers, decide relevance and section, train and evaluate."""
