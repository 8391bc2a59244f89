"""`okx-fsm demo`: two full cycles against an embedded simulator, told as a story."""
