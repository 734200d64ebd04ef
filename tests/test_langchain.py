import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from lifelong import Agent
from lifelong.core.plugins import DEFAULT_PLUGINS
from lifelong.integrations.langchain import LifelongChatModel, LifelongRetriever

from conftest import TINY_CONFIG


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("langchain")
    (workspace / "lifelong.toml").write_text(TINY_CONFIG)
    docs = tmp_path_factory.mktemp("docs")
    for i, text in enumerate(["Parking is free for customers.", "The cafe sells rhubarb tea.",
                              "Bikes can be parked by the entrance.", "The store opens at nine."]):
        (docs / f"d{i}.txt").write_text(text)
    with pytest.MonkeyPatch.context() as mp:  # module scope: runs before the autouse isolation
        mp.setenv("LIFELONG_LOAD_PLUGINS", ",".join([*DEFAULT_PLUGINS, "fakes"]))
        agent = Agent.open(workspace)
    agent.ingest([docs])
    return agent


@pytest.fixture(autouse=True)
def _agent_for_standard_tests(shared_agent, request):
    if request.cls is not None:
        request.cls.agent = shared_agent


class TestRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self):
        return LifelongRetriever

    @property
    def retriever_constructor_params(self):
        return {"agent": self.agent, "mode": "keyword"}

    @property
    def retriever_query_example(self):
        return "parking bikes store cafe"


class TestChatModelStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self):
        return LifelongChatModel

    @property
    def chat_model_params(self):
        return {"agent": self.agent}

    @pytest.mark.xfail(reason="the agent answers with its workspace's generator; no per-call model override")
    def test_standard_params_model_override(self, model):
        super().test_standard_params_model_override(model)


def test_chat_model_logs_interaction_with_id_in_metadata(shared_agent):
    model = LifelongChatModel(agent=shared_agent, retrieval=False)
    message = model.invoke("Is parking free?")
    interaction = shared_agent.interaction(message.response_metadata["interaction_id"])
    assert interaction["input"] == "Is parking free?" and interaction["output"] == message.content
    streamed = list(model.stream("Is parking free?"))
    ids = [c.response_metadata.get("interaction_id") for c in streamed if c.response_metadata.get("interaction_id")]
    assert len(ids) == 1 and shared_agent.interaction(ids[0])["status"] == "ok"


def test_lcel_chain(shared_agent):
    retriever = LifelongRetriever(agent=shared_agent, k=2, mode="keyword")
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    seen = {}

    def remember(docs):
        seen["docs"] = docs
        return docs

    chain = {"context": retriever | remember, "question": RunnablePassthrough()} | prompt | LifelongChatModel(agent=shared_agent) | StrOutputParser()
    answer = chain.invoke("Where can bikes be parked?")
    assert isinstance(answer, str)
    assert seen["docs"][0].metadata["source"].endswith(".txt") and "Bikes" in seen["docs"][0].page_content
    assert shared_agent._log.recent(1)[0]["input"] == "Where can bikes be parked?"
