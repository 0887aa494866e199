"""Make the spoken test recordings in ``tests/media`` (committed; run again to remake them).

Debian's espeak-ng reads fixed English sentences (Whisper base recognises its English word for
word; its Mandarin voice is not intelligible to Whisper, so Chinese recognition is tested
through a fake transcription endpoint instead). PyAV encodes the result as Ogg/Opus at 24 kbit/s,
the format of a Telegram voice message, a few kilobytes a second.

Usage: python scripts/make_speech_fixture.py  (needs ``apt-get install espeak-ng``)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import av

OUT = Path(__file__).resolve().parents[1] / "tests" / "media"

RECORDINGS = {
    # ~17 s: a lecture excerpt with words the tests look for.
    "lecture_en.ogg": (
        "Welcome to this lecture on transformers. "
        "Attention lets every token look at every other token in the sentence. "
        "The model computes a weighted sum of the values, and the weights come from "
        "the queries and the keys. "
        "This is called self attention, and it is the heart of the transformer."
    ),
    # ~3 s: a spoken question.
    "question_en.ogg": "What is self attention?",
}


def speak(text: str, wav: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en", "-s", "140", "-w", str(wav), text], check=True)


def to_opus(wav: Path, out: Path) -> None:
    with av.open(str(wav)) as source, av.open(str(out), "w", format="ogg") as target:
        stream = target.add_stream("libopus", rate=24000)
        stream.layout = "mono"
        stream.bit_rate = 24000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=24000)
        for frame in source.decode(audio=0):
            for piece in resampler.resample(frame):
                for packet in stream.encode(piece):
                    target.mux(packet)
        for piece in resampler.resample(None):
            for packet in stream.encode(piece):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in RECORDINGS.items():
            wav = Path(tmp) / "speech.wav"
            speak(text, wav)
            to_opus(wav, OUT / name)
            print(OUT / name, (OUT / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
