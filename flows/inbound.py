"""Inbound messages after intake: wait for the contact's pause, then feed the burst to the engine."""
