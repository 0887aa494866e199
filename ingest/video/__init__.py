"""The lecture pipeline: a video link, a recording or a subtitle file into a transcript's typed
chunks (captions, downloads, audio, speech recognition, transcript cache). It never imports
``ingest.paper``.
"""
