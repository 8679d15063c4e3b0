"""In-process simulators of the outside systems (ERP, WeChat) for the demo and the tests."""
