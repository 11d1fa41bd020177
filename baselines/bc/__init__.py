"""General policies from generated data (issue 15): the data engine, behaviour cloning, and the
video-prediction policy's pieces. ``v2p bc collect / train / eval`` drive them."""
