"""Back-tests: what a hold would have done had it been placed earlier, replayed over the
recorded history without changing it (``govreq backtest``, the console's back-test page)."""
