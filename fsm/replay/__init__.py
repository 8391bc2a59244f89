"""Replay's data: candle files (format, reader, writer), their download from OKX, and synthetic ones."""
