"""The leaderboard: submissions (weights + a small act() module), an evaluator they cannot fool
(isolated child process, ground-truth success read by the parent, private seeds), records, and
the static site. See docs/architecture.md, "Leaderboard"."""
