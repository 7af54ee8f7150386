"""Alarm conditions at run time: raise/clear, monitors and sinks."""
