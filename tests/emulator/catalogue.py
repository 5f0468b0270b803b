"""The emulator's model catalogue and Bedrock batch quotas.

Model ids are real Bedrock ids. `batch` says whether batch inference accepts the model *by this
id* (AWS's "Supported Regions and models for batch inference" table); models whose
`inference_types` is only INFERENCE_PROFILE must be reached through their `us.` system-defined
inference profile. `access` is False for the one model whose access has not been granted.
`geos` lists the system-defined (cross-Region) inference profiles that contain the model:
`us.<id>`, `eu.<id>`, `global.<id>`, each routing to the Regions in `PROFILE_REGIONS` (AWS,
"Supported Regions and models for inference profiles": a profile is named after its geography and
routes to the Regions of that geography; `global.` to commercial Regions worldwide).
`family` picks the modelInput the emulator accepts and the modelOutput it writes (the model's
InvokeModel body: anthropic, nova, llama, mistral, deepseek, openai, titan-embed,
titan-embed-image, nova-embed, cohere-embed, titan-text); "converse" marks a Converse-only
model, whose records fail in InvokeModel jobs. A Converse job uses the Converse shapes for every
text model. `_bedbatch/models` adds models at run time (a model the tool's catalogue does not know).
"""

MODELS = [
    {
        "id": "anthropic.claude-3-haiku-20240307-v1:0",
        "name": "Claude 3 Haiku",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "name": "Claude 3.5 Sonnet",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "name": "Claude 3.7 Sonnet",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "anthropic.claude-sonnet-4-20250514-v1:0",
        "name": "Claude Sonnet 4",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        # Claude 3.5 Sonnet v2: its quotas' names end "… for Claude 3.5 Sonnet v2", which also
        # contain "Claude 3.5 Sonnet" (the v1 model's name) as a substring.
        "id": "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "name": "Claude 3.5 Sonnet v2",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "name": "Claude Sonnet 4.5",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us", "eu", "global"],
    },
    {
        "id": "anthropic.claude-haiku-4-5-20251001-v1:0",
        "name": "Claude Haiku 4.5",
        "provider": "Anthropic",
        "family": "anthropic",
        "input": ["TEXT", "IMAGE"],
        "output": ["TEXT"],
        "inference_types": ["INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us", "eu", "global"],
    },
    {
        "id": "amazon.titan-embed-text-v2:0",
        "name": "Titan Text Embeddings V2",
        "provider": "Amazon",
        "family": "titan-embed",
        "input": ["TEXT"],
        "output": ["EMBEDDING"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        "id": "amazon.nova-lite-v1:0",
        "name": "Nova Lite",
        "provider": "Amazon",
        "family": "nova",
        "input": ["TEXT", "IMAGE", "VIDEO"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "amazon.nova-micro-v1:0",
        "name": "Nova Micro",
        "provider": "Amazon",
        "family": "nova",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "amazon.nova-pro-v1:0",
        "name": "Nova Pro",
        "provider": "Amazon",
        "family": "nova",
        "input": ["TEXT", "IMAGE", "VIDEO"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "meta.llama3-1-8b-instruct-v1:0",
        "name": "Llama 3.1 8B Instruct",
        "provider": "Meta",
        "family": "llama",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        # Access to this one has not been granted in the emulated account.
        "id": "meta.llama3-1-70b-instruct-v1:0",
        "name": "Llama 3.1 70B Instruct",
        "provider": "Meta",
        "family": "llama",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND", "INFERENCE_PROFILE"],
        "batch": True,
        "access": False,
        "geos": ["us"],
    },
    # Rows of AWS's "Supported Regions and models for batch inference" table
    # (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html), as
    # parsed by a third party (BATCH-FACTS §1c): by foundation-model id ("ON_DEMAND", no batch
    # profile) unless only a cross-Region profile is listed. Names are the tool's catalogue's
    # (policies/models.json), which the quota names end with.
    {
        "id": "mistral.mistral-large-2407-v1:0",
        "name": "Mistral Large (24.07)",
        "provider": "Mistral AI",
        "family": "mistral",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        # Profile only: "this model is invoked through cross-Region inference … us.deepseek.r1-v1:0"
        # (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-deepseek.html).
        "id": "deepseek.r1-v1:0",
        "name": "DeepSeek-R1",
        "provider": "DeepSeek",
        "family": "deepseek",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["INFERENCE_PROFILE"],
        "batch": True,
        "access": True,
        "geos": ["us"],
    },
    {
        "id": "openai.gpt-oss-120b-1:0",
        "name": "gpt-oss-120b",
        "provider": "OpenAI",
        "family": "openai",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        "id": "amazon.titan-embed-image-v1",
        "name": "Titan Multimodal Embeddings G1",
        "provider": "Amazon",
        "family": "titan-embed-image",
        "input": ["TEXT", "IMAGE"],
        "output": ["EMBEDDING"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        "id": "amazon.nova-2-multimodal-embeddings-v1:0",
        "name": "Nova Multimodal Embeddings",
        "provider": "Amazon",
        "family": "nova-embed",
        "input": ["TEXT", "IMAGE", "AUDIO", "VIDEO"],
        "output": ["EMBEDDING"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        # Not in the third-party parse of the batch table (BATCH-FACTS §1d): batch support by
        # this id is assumed.
        "id": "cohere.embed-english-v3",
        "name": "Embed English",
        "provider": "Cohere",
        "family": "cohere-embed",
        "input": ["TEXT"],
        "output": ["EMBEDDING"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        # Converse-only: no AWS page documents its InvokeModel body, so the emulator fails its
        # records in InvokeModel jobs and answers them in Converse jobs.
        "id": "qwen.qwen3-32b-v1:0",
        "name": "Qwen3 32B",
        "provider": "Qwen",
        "family": "converse",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": True,
        "access": True,
        "geos": [],
    },
    {
        # On-demand only: batch inference rejects it.
        "id": "amazon.titan-text-express-v1",
        "name": "Titan Text G1 - Express",
        "provider": "Amazon",
        "family": "titan-text",
        "input": ["TEXT"],
        "output": ["TEXT"],
        "inference_types": ["ON_DEMAND"],
        "batch": False,
        "access": True,
        "geos": [],
    },
]

# The Regions each geography's system-defined profiles route to.
PROFILE_REGIONS = {
    "us": ["us-east-1", "us-east-2", "us-west-2"],
    "eu": ["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"],
    "global": ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"],
}

GEO_NAMES = {"us": "US", "eu": "EU", "global": "Global"}

# (kind, name template, default value, adjustable). The model's name is in the quota name, as on AWS.
QUOTA_KINDS = [
    ("min-records", "Minimum number of records per batch inference job for {name}", 100.0, False),
    ("records-per-job", "Records per batch inference job for {name}", 50000.0, True),
    ("records-per-file", "Records per input file per batch inference job for {name}", 50000.0, True),
    ("file-size-gb", "Batch inference input file size (in GB) for {name}", 1.0, False),
    ("job-size-gb", "Batch inference job size (in GB) for {name}", 5.0, False),
    (
        "concurrent-jobs",
        "Sum of in-progress and submitted batch inference jobs using a base model for {name}",
        20.0,
        True,
    ),
]


def quota_code(model_id: str, kind: str) -> str:
    """A stable `L-XXXXXXXX` code per (model, quota kind), as AWS's codes look."""
    import zlib

    return "L-%08X" % zlib.crc32(f"{model_id}|{kind}".encode())


# Models added at run time by `POST /_bedbatch/models` (cleared by reset).
ADDED: list = []


def all_models() -> list:
    return MODELS + ADDED


def model_by_id(model_id: str):
    for m in all_models():
        if m["id"] == model_id:
            return m
    return None


def profile_ids(model) -> list:
    return [f"{geo}.{model['id']}" for geo in model.get("geos", [])]


def model_by_profile(profile_id: str):
    """-> (model, geo) for a system-defined profile id, or (None, None)."""
    geo, _, base = profile_id.partition(".")
    model = model_by_id(base)
    if model and geo in model.get("geos", []):
        return model, geo
    return None, None
