"""Benchmarks of the platform: `make bench` (`python -m bench`), never run by the test suite.

Every figure is measured in the same run as the floor it is compared with (the machine is shared and
noisy: ratios hold, absolute numbers drift). Results go to bench/results/<date>.json and .md.
"""
