/** The reference server's wording for an absent or empty `model_input`, kept so its clients recognise it. */
export const NO_MODEL_INPUT = "No uploaded file 'model_input' found.";
