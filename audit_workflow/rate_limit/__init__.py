"""Rate limits counted in the database, so they hold across web workers: the sign-in throttle
(auth) and the public feedback pages' limits (feedback) both record events under a hashed key and
refuse past a limit within a window (docs/checks.md#check-12)."""
