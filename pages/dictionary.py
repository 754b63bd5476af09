import streamlit as st
from ui.routing import require_entrypoint

require_entrypoint()
st.title("Data dictionary")
