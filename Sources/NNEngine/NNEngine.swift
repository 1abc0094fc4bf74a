// NNEngine
