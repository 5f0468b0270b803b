"""The emulator's model catalogue and Bedrock batch quotas.

Model ids are real Bedrock ids. The models follow `policies/models.json` (the tool's dated
catalogue, from BATCH-FACTS §1: AWS's table "Supported Regions and models for batch inference",
a third party's parse of it, and AWS's models-features matrix); `test_emulator.py` checks the two
agree. Per model:

- `batch`: batch inference accepts the model (some source lists it for batch; the emulator does
  not model Regions, so a model listed in any Region is accepted in every one). A model the
  features matrix marks "No" with no table row saying yes (DeepSeek-R1, Claude Opus 4 and 4.1,
  Cohere Embed v4, Writer Palmyra) is kept with `batch` False: its jobs are refused and Service
  Quotas lists no batch quota for it, as on AWS.
- `inference_types`: ON_DEMAND when batch takes the bare model id somewhere (a foundation-model
  Region), else INFERENCE_PROFILE only: such a model is reached through a system-defined profile.
- `geos`: the system-defined (cross-Region) profiles that contain the model, `<geo>.<id>`, each
  routing to the Regions in `PROFILE_REGIONS` (AWS, "Supported Regions and models for inference
  profiles": a profile is named after its geography and routes to its Regions; `global.` to
  commercial Regions worldwide). They follow the model's profile source Regions: `us` for us-*,
  `eu` for eu-*, `apac` for ap-*, and `global` when Regions outside those three (ca-, sa-, me-,
  af-, il-, mx-) can use one. Features-matrix rows, which name no Region, get `us` where the
  matrix says cross-Region Yes.
- `access`: False for the one model whose access has not been granted.
- `family` picks the modelInput the emulator accepts and the modelOutput it writes (the model's
  InvokeModel body: anthropic, nova, llama, mistral, deepseek, openai, titan-embed,
  titan-embed-image, nova-embed, cohere-embed, titan-text); "converse" marks a Converse-only
  model, whose records fail in InvokeModel jobs; "unknown" a body the emulator does not answer.
  A Converse job uses the Converse shapes for every text model.
- `quota_codes`: the Service Quotas codes of BATCH-FACTS §3 per quota kind (a third party's dump
  of Service Quotas, and for some concurrent-jobs quotas another third party's listing); kinds
  without a code there get a stable generated one.
- `quota_unit_last`: the size quotas are named "Batch inference input file size for X (in GB)"
  (BATCH-FACTS §3: Qwen, DeepSeek v3, Titan Text Embeddings V2) rather than "… (in GB) for X".

`_bedbatch/models` adds models at run time (a model the tool's catalogue does not know).
"""

import zlib

# The quota kinds in the order BATCH-FACTS §3 gives each model's codes.
CODE_ORDER = ["records-per-job", "min-records", "records-per-file", "file-size-gb", "job-size-gb", "concurrent-jobs"]


def _m(id, name, provider, family, *, on_demand=True, geos=(), batch=True, access=True, input=("TEXT",), output=("TEXT",),
       unit_last=False, codes=None):
    """A model entry. `codes`: BATCH-FACTS §3's codes as written there ("L-… / L-… / … / –", in
    CODE_ORDER; "–" where the facts give none)."""
    quota_codes = {}
    if codes:
        parts = [c.strip() for c in codes.split("/")]
        assert len(parts) == len(CODE_ORDER), (id, codes)
        quota_codes = {k: c for k, c in zip(CODE_ORDER, parts) if c != "–"}
    return {
        "id": id,
        "name": name,
        "provider": provider,
        "family": family,
        "input": list(input),
        "output": list(output),
        "inference_types": (["ON_DEMAND"] if on_demand else []) + (["INFERENCE_PROFILE"] if geos else []),
        "batch": batch,
        "access": access,
        "geos": list(geos),
        "quota_unit_last": unit_last,
        "quota_codes": quota_codes,
    }


MODELS = [
    # Anthropic
    _m("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", "Anthropic", "anthropic",
       input=["TEXT", "IMAGE"], codes="L-1F644C2A / L-AE7F26D4 / L-EBB72C32 / L-42ABE687 / L-79301C5B / –"),
    _m("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", "Anthropic", "anthropic",
       geos=["us"], input=["TEXT", "IMAGE"], codes="L-274AA31F / L-B48488BD / L-C39B6D57 / L-B688EFA5 / L-987C98F5 / –"),
    _m("anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet", "Anthropic", "anthropic",
       geos=["us"], input=["TEXT", "IMAGE"],
       codes="L-1E2B9998 / L-1E0DA3DF / L-5AB0EE48 / L-934360E8 / L-6284B54D / L-4E7EE0B5"),
    _m("anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude 3.5 Sonnet v2", "Anthropic", "anthropic",
       geos=["us"], input=["TEXT", "IMAGE"],
       codes="L-6EBFEB27 / L-1FA30AE7 / L-897F8151 / L-5CBDB5BC / L-A3D5E9F8 / L-C2FA9AEC"),
    _m("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", "Anthropic", "anthropic",
       on_demand=False, geos=["us"], input=["TEXT", "IMAGE"],
       codes="L-FABEE48F / L-BFA0FE84 / L-A985813D / L-F8B0126D / L-02D6293C / –"),
    _m("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", "Anthropic", "anthropic",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"],
       codes="L-8A6B31EE / L-F72F26EE / L-02DB18B4 / L-F611997D / L-E31283B0 / –"),
    _m("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", "Anthropic", "anthropic",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"], codes="– / – / – / – / – / L-A0300844"),
    _m("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", "Anthropic", "anthropic",
       geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"], codes="– / – / – / – / – / L-3030E098"),
    _m("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5", "Anthropic", "anthropic",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"], codes="– / – / – / – / – / L-63020993"),
    _m("anthropic.claude-opus-4-20250514-v1:0", "Claude Opus 4", "Anthropic", "anthropic",
       on_demand=False, geos=["us"], batch=False, input=["TEXT", "IMAGE"]),
    _m("anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", "Anthropic", "anthropic",
       on_demand=False, geos=["us"], batch=False, input=["TEXT", "IMAGE"]),
    _m("anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5", "Anthropic", "anthropic",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"]),
    _m("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6", "Anthropic", "anthropic",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE"], codes="– / – / – / – / – / L-B0F56DCF"),
    # Amazon
    _m("amazon.nova-micro-v1:0", "Nova Micro", "Amazon", "nova",
       geos=["us", "eu", "apac"], codes="L-57DC56A1 / L-534E6885 / L-D56DF585 / L-F36E54E0 / L-C79C2150 / –"),
    _m("amazon.nova-lite-v1:0", "Nova Lite", "Amazon", "nova",
       geos=["us", "eu", "apac"], input=["TEXT", "IMAGE", "VIDEO"],
       codes="L-916C9264 / L-39FA8DCA / L-B8626674 / L-F60B56CC / L-19E52681 / –"),
    _m("amazon.nova-pro-v1:0", "Nova Pro", "Amazon", "nova",
       geos=["us", "eu", "apac"], input=["TEXT", "IMAGE", "VIDEO"],
       codes="L-89197AE6 / L-2A3EB975 / L-9B651738 / L-68FC8D47 / L-26B15D4D / –"),
    _m("amazon.nova-premier-v1:0", "Nova Premier", "Amazon", "nova",
       on_demand=False, geos=["us"], input=["TEXT", "IMAGE", "VIDEO"]),
    _m("amazon.nova-2-lite-v1:0", "Nova 2 Lite", "Amazon", "nova",
       on_demand=False, geos=["us", "eu", "apac", "global"], input=["TEXT", "IMAGE", "VIDEO"],
       codes="– / – / – / – / – / L-10F69CA1"),
    _m("amazon.titan-embed-text-v2:0", "Titan Text Embeddings V2", "Amazon", "titan-embed",
       output=["EMBEDDING"], unit_last=True, codes="L-AAC5F6D6 / L-6F2B2616 / L-D1151D45 / L-3CAACDCF / L-F687AD4D / –"),
    _m("amazon.titan-embed-image-v1", "Titan Multimodal Embeddings G1", "Amazon", "titan-embed-image",
       input=["TEXT", "IMAGE"], output=["EMBEDDING"],
       codes="L-3BD2251E / L-1A69C08F / L-81E26054 / L-447BB329 / L-4C584163 / –"),
    _m("amazon.nova-2-multimodal-embeddings-v1:0", "Nova Multimodal Embeddings", "Amazon", "nova-embed",
       input=["TEXT", "IMAGE", "AUDIO", "VIDEO"], output=["EMBEDDING"]),
    # Meta
    _m("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct", "Meta", "llama",
       geos=["us"], codes="L-FA06C205 / L-87482B04 / L-AFE8E0CD / L-F3A3096C / L-8F302008 / –"),
    _m("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct", "Meta", "llama",
       geos=["us"], access=False, codes="L-8D07E980 / L-1EC9C5DF / L-E038D932 / L-1CF3E033 / L-B2ADD004 / –"),
    _m("meta.llama3-1-405b-instruct-v1:0", "Llama 3.1 405B Instruct", "Meta", "llama",
       codes="L-AA411D03 / L-A5CEDB91 / L-8651ED26 / L-BCF9AED9 / L-D50EA4E4 / –"),
    _m("meta.llama3-2-1b-instruct-v1:0", "Llama 3.2 1B Instruct", "Meta", "llama",
       on_demand=False, geos=["us", "eu"], codes="L-FF73AE42 / L-539B5996 / L-478319B0 / L-B8DED09F / L-F777E93B / –"),
    _m("meta.llama3-2-3b-instruct-v1:0", "Llama 3.2 3B Instruct", "Meta", "llama",
       on_demand=False, geos=["us", "eu"], codes="L-982DE2DB / L-185CB521 / L-F2E6F90D / L-8111AFAC / L-4090E58E / –"),
    _m("meta.llama3-2-11b-instruct-v1:0", "Llama 3.2 11B Instruct", "Meta", "llama",
       on_demand=False, geos=["us"], codes="L-95CACD43 / L-5BF45557 / L-D30E6B4B / L-8E129B28 / L-8D4EA85C / –"),
    _m("meta.llama3-2-90b-instruct-v1:0", "Llama 3.2 90B Instruct", "Meta", "llama",
       on_demand=False, geos=["us"], codes="L-4821684D / L-D4C72CE2 / L-51B0DEE7 / L-ACA7B6C2 / L-CAF2175F / –"),
    _m("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B Instruct", "Meta", "llama",
       geos=["us"], codes="L-E293C7C7 / L-E06E7FD6 / L-F77743B5 / L-CBAEEDF6 / L-3A7ED9C0 / –"),
    _m("meta.llama4-scout-17b-instruct-v1:0", "Llama 4 Scout 17B Instruct", "Meta", "llama",
       on_demand=False, geos=["us"]),
    _m("meta.llama4-maverick-17b-instruct-v1:0", "Llama 4 Maverick 17B Instruct", "Meta", "llama",
       on_demand=False, geos=["us"]),
    # Mistral AI (the 3.x models: Converse, no AWS page documents their InvokeModel body)
    _m("mistral.mistral-small-2402-v1:0", "Mistral Small (24.02)", "Mistral AI", "mistral",
       codes="L-072E11FC / L-DE0A7679 / L-E6489B37 / L-D32CEBC2 / L-0F052E16 / –"),
    _m("mistral.mistral-large-3-675b-instruct", "Mistral Large 3", "Mistral AI", "converse"),
    _m("mistral.ministral-3-3b-instruct", "Ministral 3B 3.0", "Mistral AI", "converse"),
    _m("mistral.ministral-3-8b-instruct", "Ministral 8B 3.0", "Mistral AI", "converse"),
    _m("mistral.ministral-3-14b-instruct", "Ministral 14B 3.0", "Mistral AI", "converse"),
    _m("mistral.magistral-small-2509", "Magistral Small 1.2", "Mistral AI", "converse"),
    _m("mistral.devstral-2-123b", "Devstral 2 123B", "Mistral AI", "converse", codes="– / – / – / – / – / L-95CB8E2F"),
    _m("mistral.voxtral-mini-3b-2507", "Voxtral Mini 1.0", "Mistral AI", "converse"),
    _m("mistral.voxtral-small-24b-2507", "Voxtral Small 1.0", "Mistral AI", "converse"),
    # DeepSeek (R1: the features matrix says No; V3.x: Converse, their InvokeModel body was not found)
    _m("deepseek.r1-v1:0", "DeepSeek-R1", "DeepSeek", "deepseek", on_demand=False, geos=["us"], batch=False),
    _m("deepseek.v3-v1:0", "DeepSeek V3.1", "DeepSeek", "converse",
       unit_last=True, codes="L-F81D0C4B / L-BC0281B9 / L-EA319DB4 / L-E5418429 / L-CB18C933 / L-0C5F7593"),
    _m("deepseek.v3.2", "DeepSeek V3.2", "DeepSeek", "converse"),
    # OpenAI
    _m("openai.gpt-oss-20b-1:0", "gpt-oss-20b", "OpenAI", "openai",
       codes="L-F361DF0F / L-5D07A961 / L-EF804815 / L-0EF69BEA / L-5594A7BA / –"),
    _m("openai.gpt-oss-120b-1:0", "gpt-oss-120b", "OpenAI", "openai",
       codes="L-3C5D1B25 / L-4B244563 / L-9EF11C18 / L-E855A326 / L-052AA08C / –"),
    _m("openai.gpt-oss-safeguard-20b", "gpt-oss-safeguard-20b", "OpenAI", "converse"),
    _m("openai.gpt-oss-safeguard-120b", "gpt-oss-safeguard-120b", "OpenAI", "converse"),
    # Converse-only: no AWS page documents their InvokeModel body (BATCH-FACTS §2)
    _m("qwen.qwen3-32b-v1:0", "Qwen3 32B", "Qwen", "converse",
       unit_last=True, codes="L-09A792C8 / L-9D2E32B8 / L-BF8FAABD / L-37B69F3F / L-AED2B25B / –"),
    _m("qwen.qwen3-235b-a22b-2507-v1:0", "Qwen3 235B A22B 2507", "Qwen", "converse",
       unit_last=True, codes="L-BA9E2685 / L-9CFEE1D8 / L-295FBA3E / L-0D428547 / L-94612705 / –"),
    _m("qwen.qwen3-coder-30b-a3b-v1:0", "Qwen3 Coder 30B A3B", "Qwen", "converse",
       unit_last=True, codes="L-DFDD7036 / L-00CA92AA / L-8B216E37 / L-A7382519 / L-F4B97433 / –"),
    _m("qwen.qwen3-coder-480b-a35b-v1:0", "Qwen3 Coder 480B A35B", "Qwen", "converse",
       unit_last=True, codes="L-B87081C1 / L-5818283A / L-8CB739C8 / L-BEAE3E04 / L-007D91B8 / L-C3BA7ADC"),
    _m("qwen.qwen3-coder-next", "Qwen3 Coder Next", "Qwen", "converse", unit_last=True),
    _m("qwen.qwen3-next-80b-a3b", "Qwen3 Next 80B A3B", "Qwen", "converse", unit_last=True),
    _m("qwen.qwen3-vl-235b-a22b", "Qwen3 VL 235B A22B", "Qwen", "converse", unit_last=True),
    _m("google.gemma-3-4b-it", "Gemma 3 4B", "Google", "converse"),
    _m("google.gemma-3-12b-it", "Gemma 3 12B", "Google", "converse"),
    _m("google.gemma-3-27b-it", "Gemma 3 27B", "Google", "converse"),
    _m("minimax.minimax-m2", "MiniMax M2", "MiniMax", "converse"),
    _m("minimax.minimax-m2.1", "MiniMax M2.1", "MiniMax", "converse", codes="– / – / – / – / – / L-C05EB25B"),
    _m("moonshot.kimi-k2-thinking", "Kimi K2 Thinking", "Moonshot AI", "converse"),
    _m("moonshotai.kimi-k2.5", "Kimi K2.5", "Moonshot AI", "converse"),
    _m("zai.glm-4.7", "GLM 4.7", "Z.ai", "converse"),
    _m("zai.glm-4.7-flash", "GLM 4.7 Flash", "Z.ai", "converse", codes="– / – / – / – / – / L-E453CCF3"),
    _m("nvidia.nemotron-nano-9b-v2", "Nemotron Nano 2", "NVIDIA", "converse"),
    _m("nvidia.nemotron-nano-12b-v2", "Nemotron Nano 2 VL", "NVIDIA", "converse"),
    _m("nvidia.nemotron-nano-3-30b", "Nemotron Nano 3 30B", "NVIDIA", "converse"),
    # The features matrix says No to batch (single-Region and cross-Region)
    _m("cohere.embed-v4", "Cohere Embed v4", "Cohere", "unknown", batch=False, output=["EMBEDDING"]),
    _m("writer.palmyra-x4-v1:0", "Palmyra X4", "Writer", "unknown", batch=False),
    _m("writer.palmyra-x5-v1:0", "Palmyra X5", "Writer", "unknown", batch=False),
    # Not in the tool's catalogue (no source in BATCH-FACTS lists them for batch), kept for the
    # tests of what the account says when the catalogue cannot.
    # Mistral Large 2 (24.07): Service Quotas lists its batch quotas (BATCH-FACTS §3, codes from
    # a third party's dump), so the account says batch supports it.
    _m("mistral.mistral-large-2407-v1:0", "Mistral Large (24.07)", "Mistral AI", "mistral",
       codes="L-CA80888F / L-F12318F0 / L-BAE2EB93 / L-9F13DDE7 / L-A83ECA24 / –"),
    # Cohere Embed v3: no source lists it for batch (BATCH-FACTS §1d), so jobs are refused.
    _m("cohere.embed-english-v3", "Embed English", "Cohere", "cohere-embed", batch=False, output=["EMBEDDING"]),
    # On-demand only: batch inference rejects it.
    _m("amazon.titan-text-express-v1", "Titan Text G1 - Express", "Amazon", "titan-text", batch=False),
]

# The Regions each geography's system-defined profiles route to.
PROFILE_REGIONS = {
    "us": ["us-east-1", "us-east-2", "us-west-2"],
    "eu": ["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"],
    "apac": ["ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"],
    "global": ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"],
}

GEO_NAMES = {"us": "US", "eu": "EU", "apac": "APAC", "global": "Global"}


class _SizeQuotaName(str):
    """The name template of a size quota: "<what> (in GB) for {name}", or for a model whose
    `quota_unit_last` is set "<what> for {name} (in GB)" (BATCH-FACTS §3). `format(name=…)`
    gives the order of the model so named, so the server's `template.format(name=model_name)`
    writes each model's quotas as AWS names them."""

    def __new__(cls, what: str):
        self = super().__new__(cls, what + " (in GB) for {name}")
        self.what = what
        return self

    def format(self, *args, **kwargs):
        model = model_by_name(kwargs.get("name"))
        if model is not None and model.get("quota_unit_last"):
            return f"{self.what} for {kwargs['name']} (in GB)"
        return str.format(self, *args, **kwargs)


# (kind, name template, default value, adjustable). The model's name is in the quota name, as on AWS.
QUOTA_KINDS = [
    ("min-records", "Minimum number of records per batch inference job for {name}", 100.0, False),
    ("records-per-job", "Records per batch inference job for {name}", 50000.0, True),
    ("records-per-file", "Records per input file per batch inference job for {name}", 50000.0, True),
    ("file-size-gb", _SizeQuotaName("Batch inference input file size"), 1.0, False),
    ("job-size-gb", _SizeQuotaName("Batch inference job size"), 5.0, False),
    (
        "concurrent-jobs",
        "Sum of in-progress and submitted batch inference jobs using a base model for {name}",
        20.0,
        True,
    ),
]


def quota_code(model_id: str, kind: str) -> str:
    """The model's code for the kind from BATCH-FACTS §3, else a stable `L-XXXXXXXX` code per
    (model, quota kind), as AWS's codes look."""
    model = model_by_id(model_id)
    known = (model or {}).get("quota_codes", {}).get(kind)
    if known:
        return known
    return "L-%08X" % zlib.crc32(f"{model_id}|{kind}".encode())


def quota_name(model, kind: str) -> str:
    """The name of one of the model's quotas, as Service Quotas lists it."""
    for k, template, _default, _adjustable in QUOTA_KINDS:
        if k == kind:
            return template.format(name=model["name"])
    raise KeyError(kind)


# Models added at run time by `POST /_bedbatch/models` (cleared by reset).
ADDED: list = []


def all_models() -> list:
    return MODELS + ADDED


def model_by_id(model_id: str):
    for m in all_models():
        if m["id"] == model_id:
            return m
    return None


def model_by_name(name):
    for m in all_models():
        if m["name"] == name:
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
