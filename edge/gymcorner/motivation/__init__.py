"""The motivation side: the emotion worker thread, the LLM client and speech.

Unlike coach/, this package does I/O (threads, sockets, a speech process, model files); the
pure parts it feeds on (emotion events, feedback events) live in coach/."""
