-- Every model reply the enrichment received, the latest per model, prompt version and text.
-- grain: model, prompt_version, text_sha256
select model, prompt_version, text_sha256, content, prompt_tokens, completion_tokens, model_seconds, created_at
from bookkeeping.llm_replies
qualify row_number() over (partition by model, prompt_version, text_sha256 order by created_at desc) = 1
order by created_at, text_sha256
