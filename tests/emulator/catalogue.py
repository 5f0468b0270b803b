"""The emulator's model catalogue and Bedrock batch quotas.

Model ids are real Bedrock ids. `batch` says whether batch inference accepts the model *by this
id* (AWS's "Supported Regions and models for batch inference" table); models whose
`inference_types` is only INFERENCE_PROFILE must be reached through their `us.` system-defined
inference profile. `access` is False for the one model whose access has not been granted.
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
        "profile": "us.anthropic.claude-3-haiku-20240307-v1:0",
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
        "profile": "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
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
        "profile": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
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
        "profile": "us.anthropic.claude-sonnet-4-20250514-v1:0",
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
        "profile": None,
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
        "profile": "us.amazon.nova-lite-v1:0",
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
        "profile": "us.amazon.nova-pro-v1:0",
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
        "profile": "us.meta.llama3-1-8b-instruct-v1:0",
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
        "profile": "us.meta.llama3-1-70b-instruct-v1:0",
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
        "profile": None,
    },
]

# Regions a `us.` system-defined inference profile routes to.
US_PROFILE_REGIONS = ["us-east-1", "us-east-2", "us-west-2"]

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


def model_by_id(model_id: str):
    for m in MODELS:
        if m["id"] == model_id:
            return m
    return None


def model_by_profile(profile_id: str):
    for m in MODELS:
        if m["profile"] and m["profile"] == profile_id:
            return m
    return None
