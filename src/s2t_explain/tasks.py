"""What a speech-to-text model can be asked to do: tasks and language codes.

The one place for these lists; decoding options, manifests, tokenizers and the CLI read them.
Standard library only.
"""

from __future__ import annotations

TASKS = ("transcribe", "translate")  # speech recognition; speech translation into English

# Whisper's language codes in token order (the first 99; later models add "yue").
LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th "
    "ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr "
    "pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt "
    "haw ln ha ba jw su yue"
).split()

# Languages written without spaces between words (Chinese, Japanese, Thai, Lao, Burmese,
# Cantonese): word timestamps give every token a word of its own there, as Whisper's tools do.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})


def list_tasks() -> list[str]:
    return list(TASKS)


def list_languages() -> list[str]:
    return list(LANGUAGES)
