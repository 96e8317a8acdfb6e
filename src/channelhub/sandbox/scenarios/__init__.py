"""Traffic scenarios for the sandbox and the benchmark (`flash_sale`)."""
