"""Layout fragments: functions returning Dash components, no callbacks."""
