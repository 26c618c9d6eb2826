"""Helpers shared by the test suites (throwaway PostgreSQL servers, fixtures)."""
