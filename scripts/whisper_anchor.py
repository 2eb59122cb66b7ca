#!/usr/bin/env python3
"""faster-whisper, the anchor of `otprig bench listen --anchor faster-whisper`.

otprig starts this script with the venv's Python (see scripts/setup-whisper.sh) and talks to it
over pipes, one JSON object a line:

- start: ``whisper_anchor.py --models-file HOME/models.json --models tiny.en,base`` loads the
  models (not timed) and answers ``{"ready": true, "faster_whisper": VERSION, "ctranslate2":
  VERSION, "beam_size": 5, "compute_type": ["float32"], "models": {NAME: FOLDER}}`` (the compute
  types the models run in);
- then each request ``{"audio": PATH, "model": NAME, "language": "en" | "da" | "auto"}`` gets
  ``{"text": ..., "digits": "123456" or null, "language": "da" or null, "language_probability":
  0.93 or null, "seconds": 0.42, "cpu_seconds": 0.40}``, or ``{"error": ...}`` when the
  transcription failed (a broken tool, never a wrong answer);
- end of input ends the script. Anything else goes to standard error.

What is measured, and why so:

- One core, as otprig's listener: ``cpu_threads=1``, ``num_workers=1``, and the numeric libraries
  held to one thread before they are imported.
- ``seconds`` is ``transcribe`` plus consuming its segments (the decoding happens lazily while
  they are read), timed here with ``perf_counter``; ``cpu_seconds`` is the processor time the
  process spent on it (``process_time``: all its threads, which take turns), a figure that other
  work on the machine does not inflate. The file is decoded to 16 kHz samples before the clocks
  start, as otprig's time leaves out reading its FLAC.
- faster-whisper's defaults are what a lab gets: beam search of 5, the temperature fallback
  (a decoding that looks like a loop is tried again, hotter), no voice-activity filter, no
  prompt. ``compute_type="default"`` keeps the model's own type where the CPU can run it; the
  shipped models are float16, which CTranslate2 runs as float32 on a CPU without fast float16.

Which model hears which clips, and why:

- ``tiny.en`` hears the English clips, told the language: it is English only, so on Danish it can
  only write English words and would score nothing by construction, and it decides no language.
  It is the smallest model and the one a lab would try first for English digits.
- ``base`` (multilingual) hears the Danish clips, and the English ones as a second English column:
  it is the smallest multilingual model shipped for offline use. It decides the language from the
  audio (``auto``), as otprig's listener does, so its "language right" is measured like otprig's.
  The issue's reference figures are these two pairings (tiny.en on English, base on Danish).

The digits of a transcript: every word must be a digit word of English (zero..nine, "oh") or
Danish (nul, en/et, to, tre, fire, fem, seks, syv, otte, ni), or a numeral; anything else left
in the text means no code. Both languages' words count whatever language was decided, which is
the anchor's best case (a Danish "to" written by a model that decided English still counts 2).

>>> code_of("Three, four, one, five, one, eight.")
'341518'
>>> code_of(" 3-4-1-9-1-8.")
'341918'
>>> code_of("nul, en, to, tre, fire, fem. Seks, syv, otte, ni!")
'0123456789'
>>> code_of("Et, to, fire.")
'124'
>>> code_of("oh seven 12 zero")
'07120'
>>> code_of("8th, 7th, 8th, 0")
>>> code_of("One time, Nero time for heaven.")
>>> code_of("three four and five")
>>> code_of("  ")
>>> code_of("Én, ét, NUL")
'110'
"""

import argparse
import json
import os
import re
import sys
import time
import unicodedata

# One core: the numeric libraries read these when they are first imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

#: Digit words of English and Danish, lowercase.
DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "nul": "0", "en": "1", "et": "1", "én": "1", "ét": "1", "to": "2", "tre": "3",
    "fire": "4", "fem": "5", "seks": "6", "syv": "7", "otte": "8", "ni": "9",
}  # fmt: skip

BEAM_SIZE = 5
SAMPLE_RATE = 16_000


def code_of(text):
    """The digits `text` spells, or None when it holds anything but digit words and numerals."""
    words = re.split(r"[\W_]+", unicodedata.normalize("NFC", text).lower())
    digits = []
    for word in filter(None, words):
        if word.isascii() and word.isdigit():
            digits.append(word)
        elif word in DIGIT_WORDS:
            digits.append(DIGIT_WORDS[word])
        else:
            return None
    return "".join(digits) or None


def load_models(models_file, names, compute_type):
    """The named models from the folders `models_file` lists, loaded for one core."""
    from faster_whisper import WhisperModel

    with open(models_file, encoding="utf-8") as file:
        folders = json.load(file)
    models = {}
    for name in names:
        folder = folders.get(name)
        if folder is None:
            sys.exit(f"{models_file} lists no model {name!r}; run scripts/setup-whisper.sh")
        if not os.path.isfile(os.path.join(folder, "model.bin")):
            sys.exit(f"{folder}/model.bin is missing; run scripts/setup-whisper.sh")
        models[name] = WhisperModel(
            folder,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=1,
            num_workers=1,
        )
    return folders, models


def transcribe(models, request):
    """Transcribes one request's audio; the reply as a dict."""
    from faster_whisper import decode_audio

    model = models.get(request["model"])
    if model is None:
        raise ValueError(f"model {request['model']!r} was not loaded")
    asked = request.get("language", "auto")
    multilingual = model.model.is_multilingual
    if not multilingual and asked not in ("en", "auto"):
        raise ValueError(f"{request['model']} hears English only, not {asked!r}")
    audio = decode_audio(request["audio"], sampling_rate=SAMPLE_RATE)
    started, cpu_started = time.perf_counter(), time.process_time()
    segments, info = model.transcribe(
        audio,
        language=None if asked == "auto" else asked,
        beam_size=BEAM_SIZE,
    )
    text = "".join(segment.text for segment in segments)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    decided = multilingual and asked == "auto"
    return {
        "text": text.strip(),
        "digits": code_of(text),
        "language": info.language if decided else None,
        "language_probability": info.language_probability if decided else None,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models-file", required=True, help="models.json of the setup")
    parser.add_argument("--models", default="tiny.en,base", help="names to load, comma-separated")
    parser.add_argument("--compute-type", default="default", help="CTranslate2 compute type")
    args = parser.parse_args()

    # Only the protocol goes to standard output; a library that prints goes to standard error.
    replies = sys.stdout
    sys.stdout = sys.stderr

    def reply(message):
        replies.write(json.dumps(message, ensure_ascii=False) + "\n")
        replies.flush()

    names = [name for name in args.models.split(",") if name]
    folders, models = load_models(args.models_file, names, args.compute_type)
    import ctranslate2
    import faster_whisper

    reply(
        {
            "ready": True,
            "faster_whisper": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
            "beam_size": BEAM_SIZE,
            "compute_type": sorted({model.model.compute_type for model in models.values()}),
            "models": {name: folders[name] for name in names},
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply(transcribe(models, json.loads(line)))
        except Exception as error:  # the tool broke on this request: say so, keep serving
            reply({"error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
