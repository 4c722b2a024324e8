"""Where Annexa tells other tools what changed: notification channels and ticket trackers.

Each channel (`[notify.<name>]`) and tracker (`[<name>]`) is a plugin named in the
`annexa.integrations` entry point, as a system is: its settings model is light and read with the
configuration; its implementation (`implementation`, "module:attribute") is imported only when
something is to be sent. The core names none of them.
"""
