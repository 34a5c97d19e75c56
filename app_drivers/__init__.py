"""Driving a running Latent Explorer from outside: a real Chromium (`browser`) and simulated websocket users
(`load_client`). Shared by the tests and the benchmarks, so both exercise the app the same way; nothing here
imports pytest or the tests."""
