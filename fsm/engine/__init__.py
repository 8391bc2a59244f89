"""Running a machine: the tick's context and view of OKX, observations, guards, actions, the tick."""
