"""The publish stage: the GitHub bot.

One module per behaviour: `github` (the client and its retry policy), `state` (tracker pull
requests and what they proposed), `rejected` (the record of rejected papers), `proposal`
(choosing proposals and building their catalog entries), `body` (the pull request's text) and
`publisher` (one commit, one branch, one pull request, converging on rerun).
"""
