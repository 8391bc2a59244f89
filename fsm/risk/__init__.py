"""Hard limits before every POST that adds exposure: the gate and the exposure it judges against."""
