"""The embedded micro-world: a seeded, synthetic English-like language that needs no download.

Why it looks the way it does
----------------------------
The workbench compares static word embeddings + LSTM against pretrained Transformers on
data-efficiency curves. That comparison only teaches something if the unlabeled corpus holds
information that a small labeled set does not. The calibration notes
(``shared/notes/calibration.md``) measured which properties of a synthetic language make that
true, and this generator is built from them:

* **A latent document state.** Templates whose slots are filled independently teach a language
  model only syntax ("terrible , so we [MASK] it" and "excellent , so we [MASK] it" got the
  same prediction). Here 70% of documents are short reviews with a hidden *opinion*
  (positive/negative) and *topic* (restaurant, film, hotel, trip) that colour every sentence:
  3-7 evaluative sentences that all agree with the opinion, lists of several same-polarity
  adjectives (dense, short-range co-occurrence), a rating sentence ("i gave it five stars ." /
  "i gave it one star .") and consequence clauses (", so we came back ." / ", so we left early .").
* **Negation, contrast and intensity with consistent consequences, in the task's own
  constructions.** A causal LM learned negation only when the corpus contained negated
  adjectives whose star rating followed the meaning after negation, and what it learned did not
  transfer to labeled sentences that wrote negation differently. So the labeled sentiment
  sentences are produced by exactly the clause builder the corpus uses ("the soup was not bad at
  all", "the room was nice but the staff was rude", "the soup was slightly bad and the staff was
  extremely friendly"), and in the corpus those sentences are followed by a consequence that
  matches their composed meaning. A quarter of the adjectives (``Lexicon.never_negated``, all
  from the tail) are never negated in the corpus, so generalisation of negation can be tested.
* **Head vs tail adjectives (Zipfian).** 80 evaluative adjectives with graded polarity (+-0.5 .. +-2)
  are sampled with a steep Zipf law: the 20 head adjectives are frequent, the 60 tail adjectives
  rare but each seen dozens of times per million tokens in documents of matching opinion
  (word2vec recovered every adjective's polarity from such a corpus in seconds). The labeled
  train split uses head adjectives only; the ``shifted`` split uses tail adjectives only, so a
  model that never read the corpus has to guess their polarity.
* **Homographs and world knowledge.** 15 noun/verb homographs ("cook", "book", "train", ...) occur
  in neutral narrative sentences in both uses; a fixed cast of 40 people has a city, a profession
  and a liked food or animal, stated and restated in varied frames ("mary lives in paris",
  "paris is where mary lives", "mary , who lives in paris , works as a cook", question/answer
  pairs). These feed the tagging and span (QA) tasks, whose ``shifted`` splits use frames or
  homograph/frame combinations that the labeled train split never shows, but the corpus does.

Everything is deterministic given the seed: only ``random.Random`` instances are used, no set or
hash order is ever iterated, so the same seed gives bit-identical corpora, lexicons and splits in
any process. Tokens are lowercase strings; punctuation ("," "." "?") and the clitic "n't" are
separate tokens.

Public API: ``WORLD_SEED``, ``build_lexicon``, ``generate_corpus``, ``make_task``,
``ground_truth``, ``TASK_NAMES``, ``TAGS``, ``SENTIMENT_LABELS``, ``PHENOMENA``,
``sentiment_value`` (the compositional semantics used to label sentences). They live in
``lexicon`` (words, hidden facts, samplers), ``sentences`` (the builders shared by corpus and
tasks), ``corpus`` and ``tasks``.
"""

from workbench.data.microworld.corpus import generate_corpus
from workbench.data.microworld.lexicon import WORLD_SEED, build_lexicon, ground_truth
from workbench.data.microworld.sentences import sentiment_value
from workbench.data.microworld.tasks import PHENOMENA, SENTIMENT_LABELS, TAGS, TASK_NAMES, make_task

__all__ = [
    "WORLD_SEED",
    "build_lexicon",
    "generate_corpus",
    "make_task",
    "ground_truth",
    "TASK_NAMES",
    "TAGS",
    "SENTIMENT_LABELS",
    "PHENOMENA",
    "sentiment_value",
]
