"""Panel selection by lot (sortition) under quotas: pure logic, no I/O."""
