// PierEngine
