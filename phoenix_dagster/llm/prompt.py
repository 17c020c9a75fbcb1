"""The prompt. Changing it means changing PROMPT_VERSION, which is part of every cache key:
old answers are then not reused for the new prompt."""

PROMPT_VERSION = "facts-v1"

SYSTEM = (
    "You extract facts about a house for sale from its listing description. Answer with JSON "
    "that matches the given schema. Use null when the text does not state a fact; never guess. "
    "Copy the exact words that state each fact into its evidence. A den or office is not a "
    "bedroom. '2.5 baths' means 2 full and 1 half bath. 'Pool-sized lot' does not mean a pool. "
    "'No HOA' means AssociationYN is false. 'Built in 1978, remodeled 2019' means YearBuilt 1978."
)


def messages(text: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Listing description:\n{text}"}]
