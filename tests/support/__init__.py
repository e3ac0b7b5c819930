"""What tests share besides fixtures: builders for the rows a test needs, API client helpers, the fake
services' settings, and the throwaway PostgreSQL server. Conftests hold fixtures only and are never imported."""
