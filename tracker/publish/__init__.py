"""The publish stage: the GitHub bot.

One module per behaviour: `github` (the client and its retry policy), `state` (tracker pull
requests, what they proposed, and the rejections that follow), `body` (the pull request's text)
and `publisher` (one commit, one branch, one pull request, converging on rerun). What to propose
is chosen in `tracker.selection`; the record of rejections is catalog data
(`tracker.catalog.rejected`).
"""
