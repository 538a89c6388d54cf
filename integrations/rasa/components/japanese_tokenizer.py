"""Rasa 3.6 tokenizer for Japanese (SudachiPy). Rasa's own tokenizers reject language `ja`.

Referenced in nlu_data/config.yml by module path:
    - name: integrations.rasa.components.japanese_tokenizer.JapaneseTokenizer

Tokens carry start/end offsets into the ORIGINAL message text (so entity annotations and extracted
entities line up with what the resident typed), while their text is normalized exactly like the
embedded NLU's (NFKC, case folding, long-vowel marks; punctuation and emoji dropped), and their lemma
is Sudachi's normalized form (CountVectorsFeaturizer uses lemmas by default).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from integrations.rasa.components.segmenter import Segmenter

POS_TAG_KEY = "pos"  # the key Rasa's LexicalSyntacticFeaturizer reads for its `pos`/`pos2` features


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class JapaneseTokenizer(Tokenizer):
    """Splits Japanese text into words with SudachiPy."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["ja"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sudachipy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Rasa's Tokenizer options (intent names are never split here).
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Sudachi split mode: A (short units), B (middle: 川崎市/中原区, 住民票), C (named entities).
            "mode": "B",
            "dictionary": "core",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.segmenter = Segmenter(mode=str(config["mode"]), dictionary=str(config["dictionary"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JapaneseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        words = self.segmenter.words(text)
        if not words:
            # Only punctuation/emoji: one token for the whole text, as WhitespaceTokenizer does.
            return [Token(text, 0, len(text))]
        tokens = [
            Token(w.text, w.start, end=w.end, data={POS_TAG_KEY: w.pos}, lemma=w.lemma) for w in words
        ]
        return self._apply_token_pattern(tokens)
