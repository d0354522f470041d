"""What every benchmark suite shares: processes, measurements, tables."""
