"""Test data builders shared by every test suite."""
