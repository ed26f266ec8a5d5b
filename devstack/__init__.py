"""The local stack that `make run` and the tests start: ministack plus the few local helpers the app needs."""
