"""Authentication (WeChat login, BFF sessions) and company binding."""
