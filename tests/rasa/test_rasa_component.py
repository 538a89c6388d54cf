"""The custom tokenizer inside Rasa itself (run in .rasa-venv): registered with DefaultV1Recipe,
accepted for language `ja`, and producing Rasa tokens with offsets into the original text."""

from __future__ import annotations

import json
import subprocess

import pytest

from integrations.rasa import paths, venv
from integrations.rasa.components.segmenter import Segmenter

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(1200)]

TEXTS = [
    "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞを作りたいです。中原区に住んでいます",
    "㈱の住所変更　ＡＢＣ１２３！！",
    "粗大ごみ(ソファ-)を出したい😀",
    "！！？",
]

SCRIPT = r"""
import json, sys
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.validation import _validate_supported_languages
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from integrations.rasa.components.japanese_tokenizer import JapaneseTokenizer

registered = DefaultV1Recipe._from_registry(JapaneseTokenizer.__name__)
assert registered.clazz is JapaneseTokenizer, registered
assert DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in registered.types
assert registered.is_trainable is False

class Node:  # the part of a graph schema node the language check reads
    uses = JapaneseTokenizer
_validate_supported_languages("ja", Node)
try:
    _validate_supported_languages("en", Node)
    rejects_en = False
except Exception:
    rejects_en = True

tok = JapaneseTokenizer({**JapaneseTokenizer.get_default_config()})
out = []
for text in json.load(sys.stdin):
    msg = Message(data={TEXT: text})
    tok.process([msg])
    out.append([[t.text, t.start, t.end, t.lemma, t.get("pos")] for t in msg.get(TOKENS_NAMES[TEXT])])
print(json.dumps({"tokens": out, "rejects_en": rejects_en}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def rasa_tokens(rasa_venv) -> dict:
    proc = subprocess.run(
        [str(venv.venv_python()), "-c", SCRIPT],
        input=json.dumps(TEXTS), capture_output=True, text=True, env=paths.rasa_env(), timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_registered_for_japanese_only(rasa_tokens: dict) -> None:
    assert rasa_tokens["rejects_en"] is True


def test_rasa_tokens_have_offsets_into_the_original_text(rasa_tokens: dict) -> None:
    segmenter = Segmenter(mode="B")
    for text, tokens in zip(TEXTS[:-1], rasa_tokens["tokens"][:-1], strict=True):
        expected = [[w.text, w.start, w.end, w.lemma, w.pos] for w in segmenter.words(text)]
        assert tokens == expected
        for _, start, end, _, _ in tokens:
            assert 0 <= start < end <= len(text)
            assert text[start:end].strip()
        assert sorted(tokens, key=lambda t: t[1]) == tokens


def test_punctuation_only_text_is_one_token(rasa_tokens: dict) -> None:
    text = TEXTS[-1]
    assert rasa_tokens["tokens"][-1] == [[text, 0, len(text), text, None]]
