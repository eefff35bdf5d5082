"""A local emulator of the Veeam Backup Enterprise Manager REST API (standard library only)."""
