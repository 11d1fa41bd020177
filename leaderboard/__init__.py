"""The leaderboard: submissions (weights + a small act() module), an evaluator they cannot fool
(the policy in a sandboxed child process, ground-truth success read by the parent, private seeds,
failures recorded as categories with cleaned messages), records, and
the static site. See docs/architecture.md, "Leaderboard"."""
