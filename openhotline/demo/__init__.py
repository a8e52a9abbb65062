"""The demo world of `make run`: demo hotline data, and the supervisor that runs it all."""
